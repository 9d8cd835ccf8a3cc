"""The mutual-aid plan on the log (specs/plan.md): rules, members, claims, panels, periods."""
