"""Just enough CloudFormation to build the local stack from ``template.yaml``.

Reads the SAM template (short-form tags included) and resolves ``Ref``,
``Fn::GetAtt``, ``Fn::Sub``, ``Fn::Join``, ``Fn::If``/``Fn::Not``/``Fn::Equals``
against the values the local stack assigned to each resource. What it cannot
resolve raises ``UnresolvedIntrinsic`` rather than guessing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"

_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


class UnresolvedIntrinsic(Exception):
    """The template uses something the local stack does not model."""


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that turns ``!Ref x`` into ``{"Ref": "x"}`` and friends."""


def _construct(tag: str) -> Callable[[yaml.Loader, yaml.Node], dict[str, Any]]:
    name = "Ref" if tag == "Ref" else f"Fn::{tag}"

    def construct(loader: yaml.Loader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag == "GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {name: value}

    return construct


for _tag in (
    "Ref",
    "GetAtt",
    "Sub",
    "Join",
    "If",
    "Not",
    "Equals",
    "Select",
    "Split",
    "And",
    "Or",
    "FindInMap",
    "ImportValue",
    "Base64",
    "GetAZs",
    "Condition",
):
    _CfnLoader.add_constructor(f"!{_tag}", _construct(_tag))


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as f:
        data = yaml.load(f, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass with CFN tags only
    if not isinstance(data, dict) or "Resources" not in data:
        raise ValueError(f"{path} is not a CloudFormation template")
    return data


class Resolver:
    """Resolves intrinsics against parameter defaults, pseudo parameters and resource values.

    ``refs[logical_id]`` is what ``Ref`` returns; ``attrs[(logical_id, attribute)]`` what
    ``Fn::GetAtt`` returns.
    """

    def __init__(self, template: Mapping[str, Any], *, region: str, account_id: str, stack_name: str) -> None:
        self.template = template
        self.refs: dict[str, Any] = {
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::StackName": stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": None,
        }
        for name, spec in (template.get("Parameters") or {}).items():
            self.refs[name] = spec.get("Default")
        self.attrs: dict[tuple[str, str], Any] = {}
        self.conditions = template.get("Conditions") or {}

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
                if (logical, attribute) not in self.attrs:
                    raise UnresolvedIntrinsic(f"Fn::GetAtt {logical}.{attribute}")
                return self.attrs[(logical, attribute)]
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Join":
                sep, items = arg
                return sep.join(str(self.resolve(i)) for i in self.resolve(items))
            if key == "Fn::If":
                cond, yes, no = arg
                return self.resolve(yes if self.condition(cond) else no)
            if key.startswith("Fn::"):
                raise UnresolvedIntrinsic(key)
        return {k: self.resolve(v) for k, v in value.items()}

    def condition(self, name: str) -> bool:
        return bool(self._eval_condition(self.conditions[name]))

    def _eval_condition(self, expr: Any) -> Any:
        if isinstance(expr, dict) and len(expr) == 1:
            ((key, arg),) = expr.items()
            if key == "Fn::Not":
                return not self._eval_condition(arg[0])
            if key == "Fn::Equals":
                left, right = (self._eval_condition(a) for a in arg)
                return left == right
            if key == "Fn::And":
                return all(self._eval_condition(a) for a in arg)
            if key == "Fn::Or":
                return any(self._eval_condition(a) for a in arg)
            if key == "Condition":
                return self.condition(arg)
        return self.resolve(expr)

    def _ref(self, name: str) -> Any:
        if name not in self.refs:
            raise UnresolvedIntrinsic(f"Ref {name}")
        return self.refs[name]

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], {k: self.resolve(v) for k, v in arg[1].items()}
        else:
            text, variables = arg, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical, attribute = name.split(".", 1)
                return str(self.resolve({"Fn::GetAtt": [logical, attribute]}))
            return str(self._ref(name))

        return _SUB_VAR.sub(replace, text)


def resources_of_type(template: Mapping[str, Any], type_name: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v.get("Type") == type_name}
