"""Dashboard pages of the decision record: the advisor's work list, the decision panel of the
client page, the client's contest box and the printable decision notice; model monitoring
(monitoring.py: the Monitoring tab and the alerts banner)."""
