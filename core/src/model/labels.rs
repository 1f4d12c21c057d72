//! Enumerations that a phone screen shows: each value has a stable wire code (English, upper snake
//! case, the form stored and sent) and a label in Bahasa Indonesia and in English.

/// A value the user picks from a list. The wire code never changes; labels may be reworded.
pub trait Labelled: Copy + Sized + 'static {
    /// Every value, in the order a form lists them.
    const ALL: &'static [Self];
    /// The stable wire code, e.g. `FOUND`.
    fn code(self) -> &'static str;
    /// The label in Bahasa Indonesia, shown first.
    fn label_id(self) -> &'static str;
    /// The label in English, shown beside it.
    fn label_en(self) -> &'static str;
    /// The value with this wire code, if any.
    fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.code() == code)
    }
}

/// Declares an enumeration with its wire codes and both labels, all in one table so that a value
/// can never lack a label.
macro_rules! labelled_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal, $id:literal, $en:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $(
                #[doc = concat!($id, " / ", $en)]
                #[serde(rename = $code)]
                $variant,
            )+
        }

        impl $crate::model::Labelled for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            fn code(self) -> &'static str {
                match self { $(Self::$variant => $code),+ }
            }
            fn label_id(self) -> &'static str {
                match self { $(Self::$variant => $id),+ }
            }
            fn label_en(self) -> &'static str {
                match self { $(Self::$variant => $en),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($crate::model::Labelled::code(*self))
            }
        }
    };
}
pub(crate) use labelled_enum;
