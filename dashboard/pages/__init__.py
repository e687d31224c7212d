"""Dashboard pages of the decision record: the advisor's work list, the decision panel of the
client page, the client's contest box and the printable decision notice."""
