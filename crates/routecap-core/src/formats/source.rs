//! Live changes in the config's own shape: a [`Source`] keeps the document
//! a config was parsed from, so that a patch to one target or group merges
//! into that target's object and the same parser reads the result (every
//! field the parser knows is patchable, and every error names its path);
//! and usage imports ([`parse_usage`]) in the three shapes.
//!
//! A patch replaces the top-level fields it names. It may name only fields
//! of that shape's target (or group) object; imported usage (`usage`,
//! `calls_in_progress`, `stats`) is not patchable: a running engine keeps
//! its counters, a usage import replaces them. A patch may repeat the
//! owner's id but not change it. Retreaver: `business_hours` and
//! `business_hours_attributes` replace each other, and a patched `caps`
//! list drops the `*_cap_attributes` the patch does not name. Ringba: a
//! patched `schedule` object replaces the schedule fields it names.

use serde_json::{Map, Value};

use super::json::{error_at, join, show, Node, Res};
use super::{parse_value, ConfigError, Format};
use crate::caps::ImportedUsage;
use crate::carry_over::UsageImport;
use crate::model::Config;

/// Which kind of owner a patch names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnerKind {
    /// A target.
    Target,
    /// A group (Retreaver target group).
    Group,
}

impl OwnerKind {
    /// `target` or `group`.
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerKind::Target => "target",
            OwnerKind::Group => "group",
        }
    }
}

/// Fields an owner's reader reads that a patch cannot change: imported
/// usage (a usage import changes it).
const NOT_PATCHED: &[&str] = &["usage", "calls_in_progress"];

/// The fields a patch of this shape and kind may name: those its reader
/// reads (one list per shape, shared with the unknown-field and
/// wrong-shape checks), but imported usage; plus a platform field
/// routecap keeps in the document without reading it (Retreaver's
/// `number`, Ringba's `conversionTimerOffset`).
pub fn patch_fields(format: Format, kind: OwnerKind) -> Vec<&'static str> {
    let read: &[&'static str] = match (format, kind) {
        (Format::Routecap, OwnerKind::Target) => super::native::fields::TARGET,
        (Format::Routecap, OwnerKind::Group) => super::native::fields::GROUP,
        (Format::Retreaver, OwnerKind::Target) => super::shape_hint::RETREAVER_TARGET,
        (Format::Retreaver, OwnerKind::Group) => super::shape_hint::RETREAVER_GROUP,
        (Format::Ringba, OwnerKind::Target) => super::shape_hint::RINGBA_TARGET,
        (Format::Ringba, OwnerKind::Group) => &[],
    };
    let mut fields: Vec<&'static str> = (read.iter().copied())
        .filter(|f| !NOT_PATCHED.contains(f))
        .collect();
    match (format, kind) {
        (Format::Retreaver, OwnerKind::Target) => fields.push("number"),
        (Format::Ringba, OwnerKind::Target) => fields.push("conversionTimerOffset"),
        _ => {}
    }
    fields
}

/// A config document in its own shape, as it was parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    doc: Value,
    format: Format,
    file: String,
}

/// One step of a path into a document.
#[derive(Clone, Debug)]
enum Seg {
    Key(&'static str),
    Index(usize),
}

/// The text of an id value (string or integer), as the parsers read it.
fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn at_path<'a>(doc: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    path.iter().try_fold(doc, |v, s| match s {
        Seg::Key(k) => v.get(*k),
        Seg::Index(i) => v.get(*i),
    })
}

fn at_path_mut<'a>(doc: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    path.iter().try_fold(doc, |v, s| match s {
        Seg::Key(k) => v.get_mut(*k),
        Seg::Index(i) => v.get_mut(*i),
    })
}

/// `path` plus `seg`, and `wrapper` when the item is `{wrapper: {...}}`.
fn item(doc: &Value, base: &[Seg], seg: Seg, wrapper: &'static str) -> Vec<Seg> {
    let mut p = base.to_vec();
    p.push(seg);
    if at_path(doc, &p).is_some_and(|v| v.get(wrapper).is_some_and(Value::is_object)) {
        p.push(Seg::Key(wrapper));
    }
    p
}

/// Paths of the items of the array at `base`.
fn items(doc: &Value, base: &[Seg], wrapper: &'static str) -> Vec<Vec<Seg>> {
    let n = at_path(doc, base)
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    (0..n)
        .map(|i| item(doc, base, Seg::Index(i), wrapper))
        .collect()
}

/// Paths of every target (or group) object of a document of this shape.
fn owner_paths(doc: &Value, format: Format, kind: OwnerKind) -> Vec<Vec<Seg>> {
    let (list, wrapper) = match (format, kind) {
        (Format::Routecap, OwnerKind::Target) => return items(doc, &[Seg::Key("targets")], ""),
        (Format::Routecap, OwnerKind::Group) => return items(doc, &[Seg::Key("groups")], ""),
        (_, OwnerKind::Target) => ("targets", "target"),
        (_, OwnerKind::Group) => ("target_groups", "target_group"),
    };
    let is_kind = |p: &Vec<Seg>| {
        let v = at_path(doc, p);
        let grouped = matches!(p.last(), Some(Seg::Key("target_group")));
        v.is_some_and(Value::is_object) && (grouped == (kind == OwnerKind::Group))
    };
    match doc {
        Value::Array(_) => {
            let mut out = items(doc, &[], "target");
            for p in &mut out {
                if at_path(doc, p).is_some_and(|v| v.get("target_group").is_some()) {
                    p.push(Seg::Key("target_group"));
                }
            }
            out.into_iter().filter(is_kind).collect()
        }
        Value::Object(m) if m.contains_key(list) => items(doc, &[Seg::Key(list)], wrapper),
        Value::Object(m) if m.contains_key(wrapper) => vec![vec![Seg::Key(wrapper)]],
        Value::Object(m)
            if kind == OwnerKind::Target
                && !m.contains_key("targets")
                && !m.contains_key("target_groups")
                && !m.contains_key("target_group") =>
        {
            vec![vec![]]
        }
        _ => Vec::new(),
    }
}

/// The id fields of an owner object in this shape, preferred first.
fn id_keys(format: Format) -> &'static [&'static str] {
    match format {
        Format::Retreaver => &["id", "tid", "client_tid"],
        _ => &["id"],
    }
}

/// Whether an owner object is named `id` (Retreaver: by `id` or `tid`).
fn names(obj: &Value, format: Format, id: &str) -> bool {
    id_keys(format)
        .iter()
        .any(|k| obj.get(*k).and_then(id_text).is_some_and(|x| x == id))
}

/// The JSON path (`$.targets[0].target`) of the target (or group) `id` in a
/// document of this shape, for messages that point into the document.
pub fn owner_json_path(doc: &Value, format: Format, kind: OwnerKind, id: &str) -> Option<String> {
    let path = owner_paths(doc, format, kind)
        .into_iter()
        .find(|p| at_path(doc, p).is_some_and(|o| names(o, format, id)))?;
    let mut out = String::from("$");
    for seg in path {
        match seg {
            Seg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    Some(out)
}

impl Source {
    /// Parse a config document and keep it for patches.
    pub fn parse(
        bytes: &[u8],
        file: &str,
        format: Option<Format>,
    ) -> Result<(Source, Config), ConfigError> {
        let config = super::parse_config(bytes, file, format)?;
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        // parse_config succeeded, so this is valid UTF-8 JSON; read as text
        // like parse_config does (one serde_json reader in the wasm build)
        let doc: Value = std::str::from_utf8(bytes)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_json::from_str(text).map_err(|e| e.to_string()))
            .map_err(|e| error_at("", String::new(), format!("invalid JSON: {e}")))?;
        let format = match format.or_else(|| super::detect(&doc)) {
            Some(f) => f,
            None => return Err(error_at("", show(&doc), "is not a config")),
        };
        Ok((
            Source {
                doc,
                format,
                file: file.to_string(),
            },
            config,
        ))
    }

    /// Keep an already-decoded document in the given shape.
    pub fn from_value(
        doc: Value,
        file: &str,
        format: Option<Format>,
    ) -> Result<(Source, Config), ConfigError> {
        let format = match format.or_else(|| super::detect(&doc)) {
            Some(f) => f,
            None => {
                let mut e = error_at("", show(&doc), super::UNRECOGNISED);
                e.file = file.to_string();
                return Err(e);
            }
        };
        let config = parse_value(&doc, file, format)?;
        Ok((
            Source {
                doc,
                format,
                file: file.to_string(),
            },
            config,
        ))
    }

    /// The shape of the document.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The name the document was read under (errors of later patches
    /// name it; a durable store keeps it with the document).
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The document.
    pub fn document(&self) -> &Value {
        &self.doc
    }

    /// The id the parser gives the owner this document names `name`
    /// (Retreaver targets may be named by `tid` as well as `id`).
    pub fn resolve_id(&self, kind: OwnerKind, name: &str) -> Option<String> {
        owner_paths(&self.doc, self.format, kind)
            .into_iter()
            .filter_map(|p| at_path(&self.doc, &p))
            .find(|o| names(o, self.format, name))
            .and_then(|o| {
                id_keys(self.format)
                    .iter()
                    .find_map(|k| o.get(*k).and_then(id_text))
            })
    }

    /// The document with `patch` merged into the target (or group) `id`,
    /// and the config it parses to; `self` is unchanged. `request` names
    /// the patch in errors.
    pub fn patch(
        &self,
        kind: OwnerKind,
        id: &str,
        patch: &Value,
        request: &str,
    ) -> Result<(Source, Config), ConfigError> {
        let fail = |path: &str, value: String, expected: String| {
            let mut e = error_at(path, value, expected);
            e.file = request.to_string();
            e
        };
        // Retreaver's and Ringba's `{"target": {...}}` update payloads
        let wrapper = match kind {
            OwnerKind::Target => "target",
            OwnerKind::Group => "target_group",
        };
        let (patch, base) = match patch.as_object() {
            Some(m)
                if self.format != Format::Routecap && m.len() == 1 && m.contains_key(wrapper) =>
            {
                (&m[wrapper], format!("patch.{wrapper}"))
            }
            _ => (patch, "patch".to_string()),
        };
        let Some(fields) = patch.as_object() else {
            return Err(fail(
                &base,
                show(patch),
                format!("is not a patch: an object of {} fields", kind.as_str()),
            ));
        };
        let allowed = patch_fields(self.format, kind);
        if allowed.is_empty() {
            return Err(fail(
                &base,
                show(patch),
                format!(
                    "cannot be applied: {} groups come from their targets' fields; patch the targets",
                    self.format
                ),
            ));
        }
        for (k, v) in fields {
            if !allowed.contains(&k.as_str()) {
                return Err(fail(
                    &join(&base, k),
                    show(v),
                    format!(
                        "is not a field a {} {} patch can change (allowed: {})",
                        self.format,
                        kind.as_str(),
                        allowed.join(", ")
                    ),
                ));
            }
        }
        let path = owner_paths(&self.doc, self.format, kind)
            .into_iter()
            .find(|p| at_path(&self.doc, p).is_some_and(|o| names(o, self.format, id)))
            .ok_or_else(|| {
                fail(
                    &base,
                    String::new(),
                    format!("names unknown {} {id:?}", kind.as_str()),
                )
            })?;
        let own = at_path(&self.doc, &path).unwrap_or(&Value::Null);
        for k in id_keys(self.format) {
            let (Some(v), Some(old)) = (fields.get(*k), own.get(*k)) else {
                continue;
            };
            if !v.is_null() && id_text(v) != id_text(old) {
                return Err(fail(
                    &join(&base, k),
                    show(v),
                    format!("cannot change the {k} of {} {id:?}", kind.as_str()),
                ));
            }
        }
        let mut doc = self.doc.clone();
        let Some(Value::Object(obj)) = at_path_mut(&mut doc, &path) else {
            return Err(fail(&base, String::new(), "cannot be applied".into()));
        };
        merge(obj, fields, self.format);
        // errors inside the patched owner name the path in the patch
        // (`patch.caps.daily`); others the path in the patched document
        let config = parse_value(&doc, request, self.format)
            .map_err(|e| in_patch(e, &path_text(&path), &base, fields))?;
        Ok((
            Source {
                doc,
                format: self.format,
                file: self.file.clone(),
            },
            config,
        ))
    }
}

/// Refuse a whole config document that has no target and no group as a
/// replacement of a running one: it would drop every target, group and
/// counter, which is nearly always a mistake (`[]`, `{}`, an empty
/// export). `how` says how to ask for it on purpose (a query parameter,
/// an event field). A document that does not parse is left to the
/// replacement itself, which names the error.
pub fn refuse_empty(
    doc: &Value,
    file: &str,
    format: Option<Format>,
    how: &str,
) -> Result<(), ConfigError> {
    match Source::from_value(doc.clone(), file, format) {
        Ok((_, c)) if c.targets.is_empty() && c.groups.is_empty() => {
            let mut e = error_at(
                "",
                show(doc),
                format!(
                    "has no targets and no groups: it would drop every target, group and \
                     counter of the running config; to empty the engine on purpose, {how}"
                ),
            );
            e.file = file.to_string();
            Err(e)
        }
        _ => Ok(()),
    }
}

/// `path` as error paths write it: `targets[0].target`.
fn path_text(path: &[Seg]) -> String {
    let mut out = String::new();
    for s in path {
        match s {
            Seg::Key(k) => out = join(&out, k),
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// `e` (at a path of the patched document) at the path inside the patch
/// when it lies in the patched owner (at `owner`) under a field the patch
/// names: `targets[0].caps.daily` becomes `patch.caps.daily`.
fn in_patch(
    mut e: ConfigError,
    owner: &str,
    base: &str,
    fields: &Map<String, Value>,
) -> ConfigError {
    let Some(rest) = e.path.strip_prefix(owner).and_then(|r| r.strip_prefix('.')) else {
        return e;
    };
    let first = rest.split(['.', '[']).next().unwrap_or(rest);
    if fields.contains_key(first) {
        e.path = join(base, rest);
    }
    e
}

/// RFC 7396 JSON Merge Patch of `patch` into `target`: an object merges
/// field by field, `null` removes a field, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(fields) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(obj) = target {
        merge_fields(obj, fields);
    }
}

/// [`merge_patch`] of an object's fields into an object.
fn merge_fields(obj: &mut Map<String, Value>, fields: &Map<String, Value>) {
    for (k, v) in fields {
        if v.is_null() {
            obj.remove(k);
        } else {
            merge_patch(obj.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// Merge `patch` into an owner object (RFC 7396), first dropping the
/// fields of the shape that would override the ones the patch sets.
fn merge(obj: &mut Map<String, Value>, patch: &Map<String, Value>, format: Format) {
    if format == Format::Retreaver {
        for (a, b) in [
            ("business_hours", "business_hours_attributes"),
            ("business_hours_attributes", "business_hours"),
        ] {
            if patch.contains_key(a) && !patch.contains_key(b) {
                obj.remove(b);
            }
        }
        if patch.contains_key("caps") {
            for k in [
                "hourly_cap_attributes",
                "daily_cap_attributes",
                "monthly_cap_attributes",
                "hard_cap_attributes",
            ] {
                if !patch.contains_key(k) {
                    obj.remove(k);
                }
            }
        }
    }
    // a Ringba schedule holds every cap, the zone and the hours: the
    // merge keeps the ones a patch does not name, as for native caps
    merge_fields(obj, patch);
}

const NATIVE_USAGE_KEYS: [&str; 9] = [
    "hourly",
    "daily",
    "monthly",
    "total",
    "live",
    "hourly_revenue",
    "daily_revenue",
    "monthly_revenue",
    "total_revenue",
];
const RINGBA_USAGE_KEYS: [&str; 9] = [
    "currentHour",
    "currentDay",
    "currentMonth",
    "total",
    "currentLive",
    "currentHourSum",
    "currentDaySum",
    "currentMonthSum",
    "totalSum",
];

/// The kinds an object names, under `keys` (native or Ringba order).
fn imported(node: &Node<'_>, keys: &super::common::UsageKeys, strict: bool) -> Res<ImportedUsage> {
    let m = node.object("is not a usage object")?;
    if strict {
        for (k, v) in m {
            if !keys.contains(&k.as_str()) {
                return Err(error_at(
                    &join(node.path(), k),
                    show(v),
                    format!("is not a usage kind (allowed: {})", keys.join(", ")),
                ));
            }
        }
    }
    super::common::imported_usage(node, keys)
}

const CAP_TYPE: &str = "is not a Retreaver cap type (Hourly, Daily, Monthly or Hard)";

/// Retreaver `caps[].filled` and `calls_in_progress` of one object.
fn retreaver_usage(node: &Node<'_>) -> Res<ImportedUsage> {
    let mut u = ImportedUsage::default();
    if let Some(list) = node.get("caps") {
        for c in list.array("is not an array of caps ({\"type\", \"cap\", \"filled\"})")? {
            let Some(filled) = c.opt("filled", Node::count)? else {
                continue;
            };
            let t = c
                .get("type")
                .ok_or_else(|| c.missing("type", "one of Hourly, Daily, Monthly, Hard"))?;
            let slot = match t.str(CAP_TYPE)?.trim().to_ascii_lowercase().as_str() {
                "hourly" => &mut u.hourly,
                "daily" => &mut u.daily,
                "monthly" => &mut u.monthly,
                "hard" => &mut u.total,
                _ => return Err(t.err(CAP_TYPE)),
            };
            *slot = Some(filled);
        }
    }
    u.live = node.opt("calls_in_progress", Node::count)?;
    Ok(u)
}

/// Parse a usage import: a native map `{"id": {"daily": 3, "live": 0}}`,
/// Ringba `{"stats": {...}}` (a get-target(s) or Counts response), or
/// Retreaver target / target-group objects with `caps[].filled` and
/// `calls_in_progress`. `request` names the document in errors.
pub fn parse_usage(value: &Value, request: &str) -> Result<UsageImport, ConfigError> {
    parse_usage_inner(value).map_err(|mut e| {
        e.file = request.to_string();
        e
    })
}

fn parse_usage_inner(value: &Value) -> Res<UsageImport> {
    let root = Node::root(value);
    let obj = value.as_object();
    let has = |k: &str| obj.is_some_and(|m| m.contains_key(k));
    if has("stats") {
        let stats = root
            .get("stats")
            .ok_or_else(|| root.missing("stats", "a stats object"))?;
        let m = stats.object("is not a stats object keyed by target id")?;
        let mut owners = Vec::new();
        for k in m.keys() {
            if let Some(n) = stats.get(k) {
                owners.push((k.clone(), imported(&n, &RINGBA_USAGE_KEYS, false)?));
            }
        }
        return Ok(UsageImport {
            owners,
            ignore_case: true,
        });
    }
    let retreaver = value.is_array()
        || [
            "target",
            "targets",
            "target_group",
            "target_groups",
            "caps",
            "calls_in_progress",
        ]
        .iter()
        .any(|k| has(k));
    if retreaver {
        let mut owners = Vec::new();
        for kind in [OwnerKind::Target, OwnerKind::Group] {
            for p in owner_paths(value, Format::Retreaver, kind) {
                let Some(v) = at_path(value, &p) else {
                    continue;
                };
                let mut node = root.clone();
                for s in &p {
                    node = match s {
                        Seg::Key(k) => node.get(k),
                        Seg::Index(i) => node.array("is not an array")?.into_iter().nth(*i),
                    }
                    .ok_or_else(|| root.err("is not a Retreaver usage document"))?;
                }
                let id = id_keys(Format::Retreaver)
                    .iter()
                    .find_map(|k| v.get(*k).and_then(id_text))
                    .ok_or_else(|| node.missing("id", "a Retreaver target needs an \"id\""))?;
                owners.push((id, retreaver_usage(&node)?));
            }
        }
        return Ok(UsageImport {
            owners,
            ignore_case: false,
        });
    }
    let m = root.object(
        "is not a usage import ({\"id\": {\"daily\": 3, \"live\": 0}}, a Ringba {\"stats\": {...}} or Retreaver targets)",
    )?;
    let mut owners = Vec::new();
    for k in m.keys() {
        if let Some(n) = root.get(k) {
            owners.push((k.clone(), imported(&n, &NATIVE_USAGE_KEYS, true)?));
        }
    }
    Ok(UsageImport {
        owners,
        ignore_case: false,
    })
}
