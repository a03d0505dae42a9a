"""Seeded simulator of JAK-inhibitor AA trials and their raw exports."""
