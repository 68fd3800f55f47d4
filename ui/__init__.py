"""The Gradio web app: chat with cited pages, analyst search, and the document library."""
