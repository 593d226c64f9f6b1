"""Reading and writing images, videos and motion files; atomic outputs."""
