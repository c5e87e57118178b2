"""Finding a child: the results pages."""
