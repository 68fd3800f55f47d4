"""Answers: prompt, generator client, citations, and the extractive fallback."""
