"""Citizen pages: layout only. Each takes the locale's translations and reads its data through the client
data module (components.data), so it is prerendered per language and works offline."""
