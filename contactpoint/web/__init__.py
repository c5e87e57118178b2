"""The web application: GOV.UK-styled pages for people, each declaring its access rule."""
