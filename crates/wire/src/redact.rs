//! `Debug` for request and answer types that carry a token or credential:
//! the secret fields print as `<redacted>`, so a `{:?}` in a log line or a
//! panic message never shows one.

/// Implements `Debug` for `$ty`, printing `$shown` fields and `<redacted>`
/// for `$hidden` ones.
macro_rules! debug_redacted {
    ($ty:ident { shown: [$($shown:ident),*], hidden: [$($hidden:ident),+] }) => {
        impl ::std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                let mut d = f.debug_struct(stringify!($ty));
                $(d.field(stringify!($shown), &self.$shown);)*
                $(
                    let _ = &self.$hidden;
                    d.field(stringify!($hidden), &"<redacted>");
                )+
                d.finish()
            }
        }
    };
}
