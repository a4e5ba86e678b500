"""The pure engine: correlate, desire, diff into a plan, order, apply through a target port."""
