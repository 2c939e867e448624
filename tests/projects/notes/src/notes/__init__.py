"""Notes: notebooks and the notes in them."""
