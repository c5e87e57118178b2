"""Finding a child: the minimum criteria a search must meet, then the search itself."""
