"""Handler signatures compiled into plans: argument sources and one validator."""

from ._plan import HandlerPlan, ParamSpec, compile_plan, register_injectable

__all__ = ["HandlerPlan", "ParamSpec", "compile_plan", "register_injectable"]
