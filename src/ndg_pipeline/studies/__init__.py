"""Studies: training variants × seeds measured by the three lenses, summarised with intervals over seeds."""
