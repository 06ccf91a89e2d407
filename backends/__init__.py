"""Backend plugins (torch, keras) over the inceptdsl IR; each is imported only when used."""
