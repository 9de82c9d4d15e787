"""Q1 (Principles of CNN): data, the in-sandbox probe and the parent-side checks."""
