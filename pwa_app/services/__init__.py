"""Domain services: plain Python, no Reflex or SQLModel imports."""
