"""The report for people: the static site, the live view and the Atom feed,
all built from the stored history and its stored analyses."""
