//! The `route/targets/N` decision of the criterion benches, exported from
//! a wasm32 module without wasm-bindgen (plain `extern "C"` functions over
//! numbers), so that `run.mjs` can time it in node with the same loop the
//! native runner (`src/native.rs`) uses. The fixture is the bench crate's
//! own file, included as is.

use std::cell::RefCell;

use routecap_core::lifecycle::State;
use routecap_core::model::Config;
use routecap_core::route::{rng_from_seed, RouteRng, Router, Step};

#[path = "../../src/fixture.rs"]
#[allow(dead_code)]
pub mod fixture;

/// Plan steps per decision, as in the criterion benches.
pub const PLAN_STEPS: usize = 5;

/// Everything one route bench needs, built once per size.
pub struct Bench {
    config: Config,
    state: State,
    router: Router,
    rng: RouteRng,
    instants: fixture::Instants,
}

impl Bench {
    /// The fixture of `n` targets and a fresh router.
    pub fn new(n: usize) -> Self {
        let config = fixture::config(n, 42);
        let state = State::new(&config);
        let router = Router::new(&config);
        Bench {
            config,
            state,
            router,
            rng: rng_from_seed(7),
            instants: fixture::Instants::default(),
        }
    }

    /// `iters` decisions at the next instants; a checksum of the plans.
    pub fn run(&mut self, iters: u32) -> u32 {
        let mut sum = 0usize;
        for _ in 0..iters {
            let at = self.instants.next().unwrap_or_else(fixture::start);
            let (_, plan) = self
                .router
                .route(&self.config, &self.state, at, &mut self.rng);
            for step in plan.take(PLAN_STEPS) {
                sum = sum.wrapping_add(match step {
                    Step::Target(t) => t,
                    Step::Group { group, .. } => group,
                });
            }
        }
        sum as u32
    }
}

thread_local! {
    static BENCH: RefCell<Option<Bench>> = const { RefCell::new(None) };
}

/// Build the bench for `n` targets (replacing any previous one).
#[no_mangle]
pub extern "C" fn setup(n: u32) {
    let bench = Bench::new(n as usize);
    BENCH.with(|b| *b.borrow_mut() = Some(bench));
}

/// Run `iters` decisions on the bench built by [`setup`]; 0 without one.
#[no_mangle]
pub extern "C" fn run(iters: u32) -> u32 {
    BENCH.with(|b| b.borrow_mut().as_mut().map_or(0, |b| b.run(iters)))
}
