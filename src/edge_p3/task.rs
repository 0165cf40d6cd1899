//! The two combinators the edge needs, over plain `std` futures: a deadline
//! on one future, and many futures driven at once until a deadline. (The
//! component runs one task per request on wit-bindgen's executor; these only
//! poll what they are given.)

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;
use wasip3::clocks::monotonic_clock;

/// `fut`'s output, or `None` when `timeout_ns` passed first (`fut` is then
/// dropped, which cancels what it was waiting for).
pub async fn deadline<F: Future>(fut: F, timeout_ns: u64) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    let mut timer = std::pin::pin!(monotonic_clock::wait_for(timeout_ns));
    poll_fn(|cx| {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
}

/// Drives every future at once; each output in its place, `None` for those
/// still running when `timeout_ns` passed.
pub async fn all_until<T>(
    futs: Vec<Pin<Box<dyn Future<Output = T> + '_>>>,
    timeout_ns: u64,
) -> Vec<Option<T>> {
    let mut slots: Vec<Option<Pin<Box<dyn Future<Output = T> + '_>>>> =
        futs.into_iter().map(Some).collect();
    let mut out: Vec<Option<T>> = slots.iter().map(|_| None).collect();
    if slots.is_empty() {
        return out;
    }
    let mut timer = std::pin::pin!(monotonic_clock::wait_for(timeout_ns));
    poll_fn(|cx| {
        let mut running = false;
        for (slot, done) in slots.iter_mut().zip(out.iter_mut()) {
            if let Some(fut) = slot {
                match fut.as_mut().poll(cx) {
                    Poll::Ready(v) => {
                        *done = Some(v);
                        *slot = None;
                    }
                    Poll::Pending => running = true,
                }
            }
        }
        if !running || timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(());
        }
        Poll::Pending
    })
    .await;
    out
}
