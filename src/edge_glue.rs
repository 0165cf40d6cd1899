//! What both edges (WASIp2 and WASIp3) write alike against their own
//! bindings' types, which are distinct Rust types with the same shape (the
//! `wasi:http` method and fields, the `wasi:keyvalue` bucket). Each edge
//! expands these macros where its bindings are in scope.

/// `method_name(Method) -> String`, `method_of(&str) -> Method` and
/// `fields_of(&[(String, Vec<u8>)]) -> Fields`, for the `Method` and
/// `Fields` types in scope.
macro_rules! http_glue {
    () => {
        /// The method's name as the core speaks it.
        pub fn method_name(method: Method) -> String {
            match method {
                Method::Get => "GET".to_string(),
                Method::Head => "HEAD".into(),
                Method::Post => "POST".into(),
                Method::Put => "PUT".into(),
                Method::Delete => "DELETE".into(),
                Method::Connect => "CONNECT".into(),
                Method::Options => "OPTIONS".into(),
                Method::Trace => "TRACE".into(),
                Method::Patch => "PATCH".into(),
                Method::Other(m) => m,
            }
        }

        /// The binding's method for a name.
        pub fn method_of(name: &str) -> Method {
            match name {
                "GET" => Method::Get,
                "HEAD" => Method::Head,
                "POST" => Method::Post,
                "PUT" => Method::Put,
                "DELETE" => Method::Delete,
                "CONNECT" => Method::Connect,
                "OPTIONS" => Method::Options,
                "TRACE" => Method::Trace,
                "PATCH" => Method::Patch,
                other => Method::Other(other.to_string()),
            }
        }

        /// Fields from a header list; entries the host refuses (forbidden or
        /// malformed) are skipped rather than failing the request. (One host
        /// call when the host takes the whole list, as it nearly always does.)
        pub fn fields_of(headers: &[(String, Vec<u8>)]) -> Fields {
            if let Ok(fields) = Fields::from_list(headers) {
                return fields;
            }
            let fields = Fields::new();
            for (name, value) in headers {
                let _ = fields.append(name, value);
            }
            fields
        }
    };
}

/// The core's `KeyValue` for a `wasi:keyvalue@0.2.0-draft2` bucket type and
/// its `atomics::increment` function.
#[allow(unused_macros)] // the `wasi` flavour has no store
macro_rules! keyvalue_glue {
    ($bucket:ty, $increment:path) => {
        impl $crate::host::KeyValue for $bucket {
            fn get(&self, key: &str) -> Option<Vec<u8>> {
                <$bucket>::get(self, key).ok().flatten()
            }
            fn set(&self, key: &str, value: &[u8]) -> bool {
                <$bucket>::set(self, key, value).is_ok()
            }
            fn increment(&self, key: &str, delta: i64) -> Option<i64> {
                $increment(self, key, delta).ok()
            }
            fn delete(&self, key: &str) -> bool {
                <$bucket>::delete(self, key).is_ok()
            }
        }
    };
}

/// Points a `wasi:http` request (`$request`) at an upstream request's
/// method, scheme, authority and path; `false` when the host refuses one.
macro_rules! set_target {
    ($request:expr, $up:expr) => {{
        let scheme = match $up.base.scheme {
            $crate::url::Scheme::Http => Scheme::Http,
            $crate::url::Scheme::Https => Scheme::Https,
        };
        $request.set_method(&method_of(&$up.method)).is_ok()
            && $request.set_scheme(Some(&scheme)).is_ok()
            && $request.set_authority(Some(&$up.base.authority)).is_ok()
            && $request
                .set_path_with_query(Some(&$up.path_with_query))
                .is_ok()
    }};
}
