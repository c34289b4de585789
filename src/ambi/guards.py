"""Route guards (`guards=[...]` on routes, routers and the app), as Cello spells them:
`from ambi.guards import RoleGuard`. See `ambi.security._guards`."""

from .security._guards import RoleGuard

__all__ = ["RoleGuard"]
