//! [`Call`]: one inbound call as every operation takes it — its id, what
//! filters and caller rules read (caller, tags, campaign), and the key of
//! the request that carries it, so that a retry is answered as the first
//! time.
//!
//! ```
//! use routecap_core::Call;
//!
//! let call = Call::new("c-1")
//!     .caller("+19195550100")
//!     .tag("geo", "301,us,us-28379,us-nc")
//!     .campaign("medicare");
//! assert_eq!(call.id(), "c-1");
//! assert_eq!(call.attrs().tag("geo"), ["301", "us", "us-28379", "us-nc"]);
//! assert_eq!(call.attrs().campaign(), Some("medicare"));
//! // an unknown caller is no caller at all
//! assert_eq!(Call::new("c-2").caller("anonymous").attrs().caller(), None);
//! ```

use crate::filter::CallAttrs;

/// One call: its id and attributes. Every part but the id is optional; a
/// one-shot `check` or `route` may leave the id empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Call {
    id: String,
    attrs: CallAttrs,
    request: Option<String>,
}

impl Call {
    /// A call with id `id` and no attributes.
    pub fn new(id: impl Into<String>) -> Call {
        Call {
            id: id.into(),
            ..Call::default()
        }
    }

    /// A call with id `id` and attributes `attrs`.
    pub fn with_attrs(id: impl Into<String>, attrs: CallAttrs) -> Call {
        Call {
            id: id.into(),
            attrs,
            request: None,
        }
    }

    /// With the caller's number (`anonymous`, `restricted` or empty: an
    /// unknown caller; see [`CallAttrs::set_caller`]).
    pub fn caller(mut self, number: &str) -> Call {
        self.attrs.set_caller(Some(number));
        self
    }

    /// With one more value of tag `key` (see [`CallAttrs::add_tag`]).
    pub fn tag(mut self, key: &str, value: &str) -> Call {
        self.attrs.add_tag(key, value);
        self
    }

    /// Routed through campaign `id`.
    pub fn campaign(mut self, id: &str) -> Call {
        self.attrs.set_campaign(Some(id));
        self
    }

    /// Carried by the request with key `key` (an HTTP `Idempotency-Key`):
    /// shared and durable state answer a retry with the same key as the
    /// first time, and never apply it twice. Without one, each request is
    /// new.
    pub fn request(mut self, key: &str) -> Call {
        self.request = Some(key.to_string());
        self
    }

    /// The call id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The caller, tags and campaign.
    pub fn attrs(&self) -> &CallAttrs {
        &self.attrs
    }

    /// The caller, tags and campaign, to change.
    pub fn attrs_mut(&mut self) -> &mut CallAttrs {
        &mut self.attrs
    }

    /// The key of the request carrying this call, if it has one.
    pub fn request_key(&self) -> Option<&str> {
        self.request.as_deref()
    }
}

impl From<&str> for Call {
    fn from(id: &str) -> Call {
        Call::new(id)
    }
}

impl From<String> for Call {
    fn from(id: String) -> Call {
        Call::new(id)
    }
}
