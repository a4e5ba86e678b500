"""Microsoft 365 (Entra ID users through Microsoft Graph) as a target: config, profile, the
planner's policy, the Graph client and the target."""
