//! What every operation of the OpenAPI document shares, added in one place instead of on each
//! handler: the error answers the layers give (`401`/`403` behind authentication, `429` on `/api`,
//! `400`/`413`/`415`/`422` for JSON bodies, `400` for query strings), request bodies that refuse
//! unknown fields, and operation ids unique across the document.
//!
//! Invariant: the document promises what the layers enforce: `web::json` refuses every unknown
//! field at every depth, so every object a request body reaches says `additionalProperties: false`.

use std::collections::{BTreeMap, BTreeSet};

use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::schema::{AdditionalProperties, ArrayItems, Schema, SchemaType, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};
use utoipa::Modify;

pub struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut OpenApi) {
        let mut bodies = Vec::new();
        let mut ids: BTreeMap<String, usize> = BTreeMap::new();
        for (path, item) in openapi.paths.paths.iter_mut() {
            for operation in operations(item) {
                add_error_responses(path, operation);
                bodies.extend(body_schema(operation));
                if let Some(id) = &operation.operation_id {
                    *ids.entry(id.clone()).or_default() += 1;
                }
            }
        }
        let mut tagged: BTreeMap<String, usize> = BTreeMap::new();
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                if let Some(id) = tagged_id(operation, &ids) {
                    *tagged.entry(id).or_default() += 1;
                }
            }
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            for operation in operations(item) {
                make_id_unique(path, operation, &ids, &tagged);
            }
        }
        if let Some(components) = openapi.components.as_mut() {
            let mut seen = BTreeSet::new();
            while let Some(name) = bodies.pop() {
                if !seen.insert(name.clone()) {
                    continue;
                }
                if let Some(RefOr::T(schema)) = components.schemas.get_mut(&name) {
                    close(schema, &mut bodies);
                }
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

fn add_error_responses(path: &str, operation: &mut Operation) {
    let mut add = |status: &str, description: &str| {
        let responses = &mut operation.responses.responses;
        if !responses.contains_key(status) {
            let error = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
                .build();
            let response = ResponseBuilder::new()
                .description(description)
                .content("application/json", error)
                .build();
            responses.insert(status.to_owned(), RefOr::T(response));
        }
    };
    if operation.security.is_some() {
        add("401", "missing, invalid or expired credentials");
        add(
            "403",
            "not permitted, or two-factor enrolment required first",
        );
    }
    if path.starts_with("/api/") {
        add("429", "rate limited; see Retry-After");
    }
    if operation.request_body.is_some() {
        add("400", "malformed JSON");
        add("413", "body larger than AUDITPULSE_MAX_BODY_BYTES");
        add("415", "body is not application/json");
        add("422", "invalid or unknown fields, each named");
    }
    let has_query = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Query);
    if has_query {
        add("400", "invalid, unknown or out-of-range query parameter");
    }
}

/// The component name of the operation's JSON request body.
fn body_schema(operation: &Operation) -> Option<String> {
    let content = operation
        .request_body
        .as_ref()?
        .content
        .get("application/json")?;
    match content.schema.as_ref()? {
        RefOr::Ref(r) => ref_name(r),
        RefOr::T(_) => None,
    }
}

fn ref_name(r: &Ref) -> Option<String> {
    r.ref_location
        .strip_prefix("#/components/schemas/")
        .map(str::to_owned)
}

/// Refuses unknown properties on `schema` and every object inside it; names the components it
/// refers to in `refs`, to be closed too.
fn close(schema: &mut Schema, refs: &mut Vec<String>) {
    let visit = |child: &mut RefOr<Schema>, refs: &mut Vec<String>| match child {
        RefOr::Ref(r) => refs.extend(ref_name(r)),
        RefOr::T(schema) => close(schema, refs),
    };
    match schema {
        Schema::Object(object) => {
            if object.schema_type == SchemaType::Type(Type::Object) || !object.properties.is_empty()
            {
                object.additional_properties =
                    Some(Box::new(AdditionalProperties::FreeForm(false)));
            }
            for child in object.properties.values_mut() {
                visit(child, refs);
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                visit(items, refs);
            }
        }
        Schema::OneOf(one) => one.items.iter_mut().for_each(|c| visit(c, refs)),
        Schema::AllOf(all) => all.items.iter_mut().for_each(|c| visit(c, refs)),
        Schema::AnyOf(any) => any.items.iter_mut().for_each(|c| visit(c, refs)),
        _ => {}
    }
}

/// `{tag}_{id}` for an operation whose id is shared with another.
fn tagged_id(operation: &Operation, ids: &BTreeMap<String, usize>) -> Option<String> {
    let id = operation.operation_id.as_ref()?;
    if ids.get(id).copied().unwrap_or(0) < 2 {
        return None;
    }
    let tag = operation.tags.as_ref()?.first()?.replace('-', "_");
    Some(format!("{tag}_{id}"))
}

/// Handlers in different modules share names (`list`, `create`); generated clients need one
/// name per operation, so a shared name is prefixed with the operation's tag, and with the
/// path's fixed segments when the tag is shared too (`users_sessions_list`).
fn make_id_unique(
    path: &str,
    operation: &mut Operation,
    ids: &BTreeMap<String, usize>,
    tagged: &BTreeMap<String, usize>,
) {
    let Some(id) = tagged_id(operation, ids) else {
        return;
    };
    if tagged.get(&id).copied().unwrap_or(0) < 2 {
        operation.operation_id = Some(id);
        return;
    }
    let segments: Vec<&str> = path
        .trim_start_matches("/api/v1/")
        .split('/')
        .filter(|s| !s.starts_with('{') && !s.is_empty())
        .collect();
    let original = operation.operation_id.clone().unwrap_or_default();
    operation.operation_id = Some(format!(
        "{}_{original}",
        segments.join("_").replace('-', "_")
    ));
}
