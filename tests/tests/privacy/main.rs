//! Metadata privacy (S9), measured from the operator's chair: what stored
//! sizes say about events, and what a whole household's life leaves readable
//! on the server (docs/PRIVACY.md).

mod sizes;
mod walkthrough;
