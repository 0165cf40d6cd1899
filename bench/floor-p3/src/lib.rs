//! The benchmark's WASIp3 floor (see Cargo.toml): `/noop` answers at once;
//! anything else is the incoming request itself, pointed at `UPSTREAM` and
//! sent on — method, path, headers and body stream untouched — with the
//! upstream's response returned as it is. No auth, no routing, no logging.

use wasip3::http::types::{ErrorCode, Fields, Request, Response, Scheme};
use wasip3::{wit_bindgen, wit_future, wit_stream};

wasip3::http::service::export!(Floor);

struct Floor;

fn upstream() -> Option<String> {
    wasip3::cli::environment::get_environment()
        .into_iter()
        .find(|(k, _)| k == "UPSTREAM")
        .map(|(_, v)| v)
}

impl wasip3::exports::http::handler::Guest for Floor {
    async fn handle(request: Request) -> Result<Response, ErrorCode> {
        if request.get_path_with_query().as_deref() == Some("/noop") {
            let (mut tx, rx) = wit_stream::new();
            let (trailers_tx, trailers_rx) = wit_future::new(|| Ok(None));
            let (response, _) = Response::new(Fields::new(), Some(rx), trailers_rx);
            drop(trailers_tx);
            wit_bindgen::spawn(async move {
                let _ = tx.write_all(b"ok".to_vec()).await;
            });
            return Ok(response);
        }
        let Some(authority) = upstream() else {
            return Err(ErrorCode::InternalError(Some("UPSTREAM is not set".into())));
        };
        let _ = request.set_scheme(Some(&Scheme::Http));
        let _ = request.set_authority(Some(&authority));
        wasip3::http::client::send(request).await
    }
}
