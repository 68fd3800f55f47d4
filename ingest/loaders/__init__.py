"""One loader per kind of file, each turning a file into units."""
