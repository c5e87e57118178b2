"""Finding a child (issue 5): the minimum criteria a search must meet, then the search itself."""
