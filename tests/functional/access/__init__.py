"""Signing in, users and their roles, vouching, step-up checks, every URL's access rule."""
