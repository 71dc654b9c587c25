"""The BPMN engine (SpiffWorkflow 3.x): parse and check definitions, run and (de)serialise workflows.

Nothing here touches the business tables; `zhengwu.flow.services` calls these functions inside its
transactions. Three things are worth knowing:

* Definitions are parsed with a hardened XML parser (no DTDs, no entities, no network) and validated
  against the BPMN 2.0 schema plus SpiffWorkflow's extension schema before anything else reads them.
* A parsed process spec is immutable in use and is cached per definition version, so loading an instance
  restores only its task tree (the spec stored inside the state is used only when the state was written
  by an older serializer version and must be migrated first).
* SpiffWorkflow's own migration table chains only part of the way (1.2 → 1.3 stops there), so
  `state_migrate` walks every step until the state is at the current serializer version.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.utils.translation import gettext as _
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SERIALIZER_VERSION
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}

MAX_XML_BYTES = 2 * 1024 * 1024
KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
# A data variable, or a key inside one (``part.handler``: the current item of a multi-instance step).
DATA_PATH_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}(\.[A-Za-z_][A-Za-z0-9_]{0,63}){0,3}$")

STEP_PROPS = {
    "unit",  # key into the process data's "units" mapping (lead, dept_1 …); default: the lead unit
    "assignee",  # name of a data variable holding a user id (a person task)
    "assignee_post",  # a post's name within the unit
    "assignee_role",  # a unit role (handler, reviewer, leader …)
    "sign_mode",  # countersign (会签) | any_sign (或签) for multi-instance tasks
    "limit",  # the step's own time limit, e.g. 3wd
    "limit_from",  # a data variable holding the step's limit (part.limit: one per multi-instance item)
    "legal_limit",  # 法定时限 for this step
    "promised_limit",  # 承诺时限 for this step
    "warning_before",  # how long before due the warning comes, e.g. 1wd
    "clock_stop",  # while this step is open the process clock stops (supplement, hearing …)
    "opinion",  # "required": the opinion text may not be empty
    "red_after",  # how long past due the red card comes, e.g. 3wd (the default)
    "on_breach",  # when the step is overdue: escalate:<role> | auto_advance | deemed_approve | deemed_reject
}
PROCESS_PROPS = {"legal_limit", "promised_limit", "warning_before", "red_after", "on_breach"}
LIMIT_PROPS = {"limit", "legal_limit", "promised_limit", "warning_before", "red_after"}
FIELD_TYPES = {"text", "char", "choice", "date", "number", "bool"}
RESERVED_FIELDS = {"opinion", "units", "starter", "business"}


class FlowError(Exception):
    """A refusal or failure a person can read (Chinese message); nothing has been written."""


class DefinitionError(FlowError):
    """A BPMN/DMN file that cannot be published, with the reason."""


@dataclass
class ParsedDefinition:
    key: str
    name: str
    steps: dict[str, dict[str, Any]]
    properties: dict[str, str]
    dmn_files: dict[str, str] = field(default_factory=dict)


# --- Safe XML ---------------------------------------------------------------------------------------

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
)


def xml_parse(text: str | bytes, *, what: str) -> etree._Element:
    """Parse untrusted XML: size-capped, DOCTYPE refused (no entity tricks), no network access."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    if len(raw) > MAX_XML_BYTES:
        raise DefinitionError(_("%(what)s 文件过大（上限 2 MB）") % {"what": what})
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise DefinitionError(_("%(what)s 文件不能包含 DOCTYPE 或实体声明") % {"what": what})
    try:
        return etree.fromstring(raw, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise DefinitionError(
            _("%(what)s 文件不是合法的 XML：%(err)s") % {"what": what, "err": exc}
        ) from None


def _props(node: etree._Element) -> dict[str, str]:
    out: dict[str, str] = {}
    for prop in node.xpath(
        "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS
    ):
        name = (prop.get("name") or "").strip()
        if name:
            out[name] = (prop.get("value") or "").strip()
    return out


def _check_limit(text: str, where: str) -> None:
    from zhengwu.workdays.calendar import Limit

    try:
        Limit.parse(text)
    except ValueError as exc:
        raise DefinitionError(_("%(where)s：%(err)s") % {"where": where, "err": exc}) from None


BREACH_KINDS = {"escalate", "auto_advance", "deemed_approve", "deemed_reject"}
APPROVE_VALUES = ("approve", "approved", "agree", "yes", "pass", "同意", "准予")
REJECT_VALUES = ("reject", "rejected", "disagree", "no", "deny", "不同意", "不予")


def parse_on_breach(text: str) -> tuple[str, str]:
    """``on_breach`` → (kind, argument): ``escalate:leader`` → ("escalate", "leader");
    ``deemed_approve`` → ("deemed_approve", ""); ``deemed_reject:no`` → ("deemed_reject", "no")."""
    from zhengwu.core.models import UnitRoleKind

    kind, _sep, arg = (text or "").strip().partition(":")
    kind, arg = kind.strip(), arg.strip()
    if kind not in BREACH_KINDS:
        raise ValueError(
            _("超期处置“%(v)s”无效（可用：escalate:角色、auto_advance、deemed_approve、deemed_reject）")
            % {"v": text}
        )
    if kind == "escalate" and arg not in UnitRoleKind.values:
        raise ValueError(_("超期升级的角色“%(r)s”无效") % {"r": arg})
    if kind == "auto_advance" and arg:
        raise ValueError(_("auto_advance 不带参数"))
    return kind, arg


def deemed_choice(fields: list[dict[str, Any]], kind: str, arg: str = "") -> tuple[str, str] | None:
    """For 逾期视为同意/不同意: the step's first choice field and the option meaning approve / reject.

    ``None`` when the step has no choice field (the step is then completed with its outcome only).
    Raises ValueError when no option can be told to mean approve (reject): name it, ``deemed_approve:yes``.
    """
    choice = next((f for f in fields if f["type"] == "choice"), None)
    if choice is None:
        if arg:
            raise ValueError(_("环节没有可选的表单字段，不能指定“%(v)s”") % {"v": arg})
        return None
    values = [o[0] for o in choice["options"]]
    if arg:
        if arg not in values:
            raise ValueError(_("选项“%(v)s”不在“%(f)s”的取值中") % {"v": arg, "f": choice["label"]})
        return choice["id"], arg
    wanted = APPROVE_VALUES if kind == "deemed_approve" else REJECT_VALUES
    for value in wanted:
        if value in values:
            return choice["id"], value
    raise ValueError(
        _("无法确定“%(f)s”中哪个选项表示%(what)s，请写成 %(kind)s:选项值")
        % {"f": choice["label"], "what": _("同意") if kind == "deemed_approve" else _("不同意"), "kind": kind}
    )


def _check_on_breach(text: str, fields: list[dict[str, Any]], where: str) -> None:
    try:
        kind, arg = parse_on_breach(text)
        if kind in {"deemed_approve", "deemed_reject"}:
            deemed_choice(fields, kind, arg)
    except ValueError as exc:
        raise DefinitionError(_("%(where)s：%(err)s") % {"where": where, "err": exc}) from None


def parse_field(field_id: str, spec: str, where: str) -> dict[str, Any]:
    """``field:vote`` = ``choice|会签意见|agree=同意,disagree=不同意|required`` → a form field description."""
    if not IDENT_RE.match(field_id) or field_id in RESERVED_FIELDS:
        raise DefinitionError(
            _("%(where)s：表单字段名“%(f)s”无效或为保留名") % {"where": where, "f": field_id}
        )
    parts = [p.strip() for p in spec.split("|")]
    kind = parts[0] if parts else ""
    if kind not in FIELD_TYPES:
        raise DefinitionError(
            _("%(where)s：字段“%(f)s”的类型“%(t)s”无效（可用：%(all)s）")
            % {"where": where, "f": field_id, "t": kind, "all": ", ".join(sorted(FIELD_TYPES))}
        )
    label = parts[1] if len(parts) > 1 and parts[1] else field_id
    options: list[list[str]] = []
    if kind == "choice":
        raw = parts[2] if len(parts) > 2 else ""
        for item in filter(None, (s.strip() for s in raw.split(","))):
            value, _sep, text = item.partition("=")
            options.append([value.strip(), (text or value).strip()])
        if not options:
            raise DefinitionError(_("%(where)s：选择字段“%(f)s”没有选项") % {"where": where, "f": field_id})
    flags = {p for p in parts[3:] if p}
    return {"id": field_id, "type": kind, "label": label, "options": options, "required": "required" in flags}


def _lane_props(process: etree._Element) -> dict[str, tuple[str, dict[str, str]]]:
    """flow node id → (lane name, lane properties)."""
    out: dict[str, tuple[str, dict[str, str]]] = {}
    for lane in process.xpath(".//bpmn:lane", namespaces=NS):
        props = _props(lane)
        for ref in lane.xpath("./bpmn:flowNodeRef", namespaces=NS):
            out[(ref.text or "").strip()] = (lane.get("name") or "", props)
    return out


FLOW_NODE_TAGS = {
    "userTask",
    "manualTask",
    "task",
    "scriptTask",
    "serviceTask",
    "businessRuleTask",
    "sendTask",
    "receiveTask",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
    "subProcess",
    "callActivity",
    "transaction",
}


def _steps(process: etree._Element) -> dict[str, dict[str, Any]]:
    from zhengwu.core.models import UnitRoleKind
    from zhengwu.workdays.calendar import StopReason

    lanes = _lane_props(process)
    steps: dict[str, dict[str, Any]] = {}
    for node in process.iter():
        if not isinstance(node.tag, str):
            continue
        qname = etree.QName(node)
        if qname.namespace != BPMN_NS or qname.localname not in FLOW_NODE_TAGS:
            continue
        node_id = node.get("id") or ""
        name = (node.get("name") or "").strip() or node_id
        lane_name, lane_props = lanes.get(node_id, ("", {}))
        props = {**lane_props, **_props(node)}
        where = _("环节“%(name)s”") % {"name": name}
        fields: list[dict[str, Any]] = []
        for key, value in props.items():
            if key.startswith("field:"):
                fields.append(parse_field(key[6:], value, where))
            elif key.startswith("x-"):
                continue
            elif key not in STEP_PROPS:
                raise DefinitionError(_("%(where)s：未知的扩展属性“%(p)s”") % {"where": where, "p": key})
            elif key in LIMIT_PROPS and value:
                _check_limit(value, where)
        if props.get("on_breach"):
            _check_on_breach(props["on_breach"], fields, where)
        if props.get("assignee_role") and props["assignee_role"] not in UnitRoleKind.values:
            raise DefinitionError(
                _("%(where)s：未知的角色“%(r)s”") % {"where": where, "r": props["assignee_role"]}
            )
        for var, pattern in (("assignee", DATA_PATH_RE), ("unit", IDENT_RE), ("limit_from", DATA_PATH_RE)):
            if props.get(var) and not pattern.match(props[var]):
                raise DefinitionError(_("%(where)s：%(p)s 的值必须是变量名") % {"where": where, "p": var})
        if props.get("clock_stop") and props["clock_stop"] not in StopReason.values:
            raise DefinitionError(
                _("%(where)s：暂停计时事由“%(r)s”无效") % {"where": where, "r": props["clock_stop"]}
            )
        multi = bool(node.xpath("./bpmn:multiInstanceLoopCharacteristics", namespaces=NS))
        sign_mode = props.get("sign_mode") or ("countersign" if multi else "single")
        if sign_mode not in {"single", "countersign", "any_sign"} or (multi and sign_mode == "single"):
            raise DefinitionError(_("%(where)s：办理方式“%(m)s”无效") % {"where": where, "m": sign_mode})
        if sign_mode != "single" and not multi:
            raise DefinitionError(_("%(where)s：会签/或签环节必须是多实例用户任务") % {"where": where})
        steps[node_id] = {
            "id": node_id,
            "name": name,
            "kind": qname.localname,
            "lane": lane_name,
            "props": {k: v for k, v in props.items() if not k.startswith("field:")},
            "fields": fields,
            "multi": multi,
            "sign_mode": sign_mode,
        }
    return steps


def _new_parser() -> SpiffBpmnParser:
    return SpiffBpmnParser(validator=VALIDATOR)


def _spiff_message(exc: Exception) -> str:
    if isinstance(exc, ValidationException):
        where = f"（第 {exc.line_number} 行）" if getattr(exc, "line_number", None) else ""
        return f"{exc}{where}"
    return str(exc)


def definition_parse(bpmn_xml: str, dmn_files: dict[str, str] | None = None) -> ParsedDefinition:
    """Check a BPMN file (and the DMN files it needs) the way publishing does; return what we keep of it."""
    dmn_files = dict(dmn_files or {})
    root = xml_parse(bpmn_xml, what="BPMN")
    if etree.QName(root).namespace != BPMN_NS or etree.QName(root).localname != "definitions":
        raise DefinitionError(_("不是 BPMN 2.0 文件（根元素应为 bpmn:definitions）"))
    executable = root.xpath("./bpmn:process[@isExecutable='true']", namespaces=NS)
    if len(executable) != 1:
        raise DefinitionError(_('BPMN 文件必须恰好包含一个可执行流程（isExecutable="true"）'))
    process = executable[0]
    key = process.get("id") or ""
    if not KEY_RE.match(key):
        raise DefinitionError(
            _("流程标识“%(key)s”无效：只能用字母、数字、下划线和连字符，以字母开头") % {"key": key}
        )
    name = (process.get("name") or "").strip() or key
    properties = _props(process)
    for prop, value in properties.items():
        if prop.startswith("x-"):
            continue
        if prop not in PROCESS_PROPS:
            raise DefinitionError(_("流程：未知的扩展属性“%(p)s”") % {"p": prop})
        if prop in LIMIT_PROPS:
            _check_limit(value, _("流程"))
    steps = _steps(process)
    if properties.get("on_breach"):
        # The process-wide rule applies to every user task without its own: each must be able to take it.
        for step in steps.values():
            if step["kind"] == "userTask" and not step["props"].get("on_breach"):
                where = _("流程（环节“%(name)s”）") % {"name": step["name"]}
                _check_on_breach(properties["on_breach"], step["fields"], where)

    parser = _new_parser()
    try:
        for filename, text in dmn_files.items():
            parser.add_dmn_xml(xml_parse(text, what="DMN"), filename=filename)
        parser.add_bpmn_xml(root, filename=f"{key}.bpmn")
        missing = parser.get_dmn_dependencies() - set(parser.dmn_parsers)
        if missing:
            raise DefinitionError(_("缺少 DMN 决策表：%(ids)s") % {"ids": ", ".join(sorted(missing))})
        parser.get_spec(key)
        parser.get_subprocess_specs(key)
    except DefinitionError:
        raise
    except (ValidationException, SpiffWorkflowException, etree.LxmlError) as exc:
        raise DefinitionError(_("BPMN/DMN 校验未通过：%(err)s") % {"err": _spiff_message(exc)}) from None
    used = {
        filename
        for filename, text in dmn_files.items()
        if set(xml_parse(text, what="DMN").xpath("//*[local-name()='decision']/@id"))
        & parser.get_dmn_dependencies()
    }
    return ParsedDefinition(
        key=key,
        name=name,
        steps=steps,
        properties=properties,
        dmn_files={k: v for k, v in dmn_files.items() if k in used},
    )


# --- Specs, cached per definition version ---------------------------------------------------------

_spec_lock = threading.Lock()
_spec_cache: dict[tuple[int, str], tuple[Any, dict[str, Any]]] = {}
# The serialised form of each cached spec (id(spec) → (spec, its dicts)): a state written with a cached
# spec carries the same spec dict every time, so it is converted once, not at every step.
_spec_dicts: dict[int, tuple[Any, dict[str, Any], dict[str, Any]]] = {}


def specs_for(definition: Any) -> tuple[Any, dict[str, Any]]:
    """The parsed process spec and its subprocess specs for a definition row (parsed once per process)."""
    cache_key = (definition.pk, definition.checksum)
    cached = _spec_cache.get(cache_key)
    if cached is not None:
        return cached
    parser = _new_parser()
    for filename, text in (definition.dmn_files or {}).items():
        parser.add_dmn_xml(xml_parse(text, what="DMN"), filename=filename)
    parser.add_bpmn_xml(xml_parse(definition.bpmn_xml, what="BPMN"), filename=f"{definition.key}.bpmn")
    spec = parser.get_spec(definition.key)
    subprocess_specs = parser.get_subprocess_specs(definition.key)
    for process_spec in [spec, *subprocess_specs.values()]:
        _connect_loops(process_spec)
    spec_dict = SERIALIZER.registry.convert(spec)
    subprocess_dicts = {name: SERIALIZER.registry.convert(s) for name, s in subprocess_specs.items()}
    with _spec_lock:
        _spec_cache[cache_key] = (spec, subprocess_specs)
        _spec_dicts[id(spec)] = (spec, spec_dict, subprocess_dicts)
    return spec, subprocess_specs


def _connect_loops(process_spec: Any) -> None:
    """Connect each loop/multi-instance child spec to its parent's merge, as restoring a spec does.

    A freshly parsed spec connects them only when the first child is created; a workflow restored onto a
    spec whose children were created in another process would otherwise never merge them (the
    multi-instance step would never finish).
    """
    for task_spec in process_spec.task_specs.values():
        if isinstance(task_spec, LoopTask):
            child = process_spec.task_specs.get(task_spec.task_spec)
            if child is not None and not child.completed_event.is_connected(task_spec.merge_child):
                child.completed_event.connect(task_spec.merge_child)


def spec_cache_clear() -> None:
    with _spec_lock:
        _spec_cache.clear()
        _spec_dicts.clear()


# --- The script environment -----------------------------------------------------------------------


def role_holders(unit_id: int, role: str) -> list[int]:
    """BPMN scripts: the ids of the active staff holding a role in a unit (for countersign lists)."""
    from zhengwu.core.models import UnitRole

    ids = sorted(
        set(
            UnitRole.objects.filter(unit_id=int(unit_id), role=role, user__is_active=True).values_list(
                "user_id", flat=True
            )
        )
    )
    if not ids:
        from zhengwu.core.models import Unit

        unit = Unit.objects.filter(pk=int(unit_id)).first()
        raise FlowError(
            _("%(unit)s没有可办理的“%(role)s”人员，请先由单位管理员指定")
            % {"unit": unit.name if unit else unit_id, "role": role}
        )
    return ids


def post_holders(unit_id: int, post_name: str) -> list[int]:
    """BPMN scripts: the ids of the active staff holding a post (by name) in a unit."""
    from zhengwu.core.models import PostAssignment

    ids = sorted(
        set(
            PostAssignment.objects.filter(
                post__unit_id=int(unit_id), post__name=post_name, user__is_active=True
            ).values_list("user_id", flat=True)
        )
    )
    if not ids:
        raise FlowError(_("岗位“%(post)s”无人任职") % {"post": post_name})
    return ids


SCRIPT_ENGINE = PythonScriptEngine(
    environment=TaskDataEnvironment({"role_holders": role_holders, "post_holders": post_holders})
)


# --- Serialisation ----------------------------------------------------------------------------------


class _CachedSpecWorkflowConverter(BpmnWorkflowConverter):
    """Also accepts already-parsed spec objects in place of serialised specs (the common, fast path),
    and writes a cached spec's serialised form without converting it again."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        cached = _spec_dicts.get(id(workflow.spec))
        if cached is None or cached[0] is not workflow.spec:  # restored from a stored spec (migration)
            return super().to_dict(workflow)  # type: ignore[no-any-return]
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["spec"] = cached[1]
        dct["subprocess_specs"] = cached[2]
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        spec = dct.pop("spec")
        if isinstance(spec, dict):
            spec = self.registry.restore(spec)
            subprocess_specs = self.mapping_from_dict(dct.pop("subprocess_specs", {}))
        else:
            subprocess_specs = dct.pop("subprocess_specs", {})
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _registry() -> Any:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _CachedSpecWorkflowConverter
    return BpmnWorkflowSerializer.configure(config)


SERIALIZER = BpmnWorkflowSerializer(_registry())
CURRENT_VERSION = SERIALIZER_VERSION

# SpiffWorkflow's MIGRATIONS[v] upgrades to the version noted here, not always to the newest one.
_MIGRATES_TO = {"1.0": "1.3", "1.1": "1.3", "1.2": "1.3", "1.3": "1.4", "1.4": "1.5"}


def state_migrate(dct: dict[str, Any], version: str) -> str:
    """Upgrade a serialised workflow dict in place from ``version`` to the current one; return the path."""
    path = [version]
    while version != CURRENT_VERSION:
        if version not in MIGRATIONS or version not in _MIGRATES_TO:
            raise FlowError(_("无法识别的流程状态格式版本：%(v)s") % {"v": version})
        MIGRATIONS[version](dct)
        version = _MIGRATES_TO[version]
        path.append(version)
    return " → ".join(path)


def workflow_new(definition: Any, data: dict[str, Any]) -> BpmnWorkflow:
    spec, subprocess_specs = specs_for(definition)
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=SCRIPT_ENGINE)
    workflow.task_tree.data.update(data)
    return workflow


def workflow_state(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The state as SpiffWorkflow serialises it (its dict form, with ``serializer_version``), for a JSON column."""
    dct = SERIALIZER.to_dict(workflow)
    dct[BpmnWorkflowSerializer.VERSION_KEY] = SERIALIZER.VERSION
    return dct


def workflow_dump(workflow: BpmnWorkflow) -> str:
    """The same state as JSON text (what ``BpmnWorkflowSerializer.serialize_json`` writes)."""
    return SERIALIZER.serialize_json(workflow)


def _tree_order(tasks: dict[str, Any], root: str) -> dict[str, Any]:
    """The serialised tasks with every parent before its children.

    SpiffWorkflow stores a task's data as a delta against its parent and restores the tasks in mapping
    order, so a child read before its parent silently loses its data. JSON text keeps the order it was
    written in, but PostgreSQL's jsonb reorders object keys: restore in tree order whatever the column.
    """
    ordered: dict[str, Any] = {}
    queue = deque([root])
    while queue:
        task_id = queue.popleft()
        if task_id in ordered or task_id not in tasks:
            continue
        ordered[task_id] = tasks[task_id]
        queue.extend(tasks[task_id].get("children", []))
    for task_id, task in tasks.items():
        ordered.setdefault(task_id, task)
    return ordered


def _in_tree_order(dct: dict[str, Any]) -> None:
    dct["tasks"] = _tree_order(dct["tasks"], dct["root"])
    dct["subprocesses"] = {
        key: {**sub, "tasks": _tree_order(sub["tasks"], sub["root"])}
        for key, sub in dct.get("subprocesses", {}).items()
    }


def workflow_load(definition: Any, state: dict[str, Any] | str, version: str) -> BpmnWorkflow:
    """Restore a workflow; an older serialisation is migrated and restored with its own stored spec."""
    # Restoring pops keys from the top-level dict only (a shallow copy keeps the caller's intact);
    # migrations rewrite nested parts, so they work on a deep copy.
    dct = json.loads(state) if isinstance(state, str) else dict(state)
    stored = dct.pop(BpmnWorkflowSerializer.VERSION_KEY, version) or version
    if stored != CURRENT_VERSION:
        dct = copy.deepcopy(dct)
        state_migrate(dct, stored)
        _in_tree_order(dct)
        workflow = SERIALIZER.from_dict(dct)
    else:
        _in_tree_order(dct)
        spec, subprocess_specs = specs_for(definition)
        dct["spec"] = spec
        dct["subprocess_specs"] = subprocess_specs
        workflow = SERIALIZER.from_dict(dct)
    workflow.script_engine = SCRIPT_ENGINE
    return workflow


# --- Reading a workflow ---------------------------------------------------------------------------


def data_value(data: dict[str, Any], path: str) -> Any:
    """A value from task data by variable name or dotted path (``part.handler``); None when missing."""
    value: Any = data
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def ready_user_tasks(workflow: BpmnWorkflow) -> list[SpiffTask]:
    return [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual]


def step_id(task: SpiffTask) -> str:
    return getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name


def task_by_id(workflow: BpmnWorkflow, task_id: UUID | str) -> SpiffTask | None:
    try:
        return workflow.get_task_from_id(task_id if isinstance(task_id, UUID) else UUID(str(task_id)))
    except Exception:
        return None


def progress(workflow: BpmnWorkflow) -> tuple[list[str], list[str]]:
    """(completed step ids, current step ids) of the diagram elements, for the flowchart."""
    done: set[str] = set()
    current: set[str] = set()
    for task in workflow.get_tasks():
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if not bpmn_id:
            continue
        if task.state == TaskState.COMPLETED:
            done.add(bpmn_id)
        elif task.state in (TaskState.READY, TaskState.STARTED, TaskState.WAITING):
            current.add(bpmn_id)
    return sorted(done - current), sorted(current)


def returnable_steps(workflow: BpmnWorkflow, task: SpiffTask) -> list[SpiffTask]:
    """Completed user tasks on the path that led to ``task`` (退回 targets), nearest first, one per step."""
    seen: set[str] = set()
    out: list[SpiffTask] = []
    node = task.parent
    while node is not None:
        if node.task_spec.manual and node.state == TaskState.COMPLETED:
            sid = step_id(node)
            if sid not in seen and sid != step_id(task):
                seen.add(sid)
                out.append(node)
        node = node.parent
    return out


def run_engine(workflow: BpmnWorkflow) -> None:
    """Advance through gateways, scripts and events until only user tasks (or nothing) are ready."""
    try:
        workflow.do_engine_steps()
    except FlowError:
        raise
    except SpiffWorkflowException as exc:
        inner = getattr(exc, "exception", None)
        if isinstance(inner, FlowError):
            raise inner from None
        raise FlowError(_("流程执行出错：%(err)s") % {"err": exc}) from exc


def timer_next_at(workflow: BpmnWorkflow, *, now: Any = None) -> Any:
    """The earliest moment one of the workflow's waiting BPMN timer events can fire, or None.

    SpiffWorkflow fires timers only when waiting tasks are refreshed; the periodic job refreshes an
    instance at this moment. A timer whose moment is not known yet (not evaluated) counts as due now.
    """
    from datetime import UTC, datetime

    from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

    now = now or datetime.now(UTC)
    moments = []
    for task in list(workflow.event_manager.tasks.values()):
        definition = task.task_spec.event_definition
        if isinstance(definition, MultipleEventDefinition):
            timers = [d for d in definition.event_definitions if isinstance(d, TimerEventDefinition)]
            if timers:
                moments.append(now)
            continue
        if not isinstance(definition, TimerEventDefinition):
            continue
        value = task._get_internal_data("event_value")
        try:
            if isinstance(value, dict):
                moments.append(datetime.fromisoformat(value["next"]))
            elif isinstance(value, str):
                moment = TimerEventDefinition.parse_time_or_duration(value)
                moments.append(moment if isinstance(moment, datetime) else now)
            else:
                moments.append(now)
        except Exception:  # an expression we cannot read: look again at the next run
            moments.append(now)
    return min(moments) if moments else None
