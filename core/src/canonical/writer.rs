//! The canonical form written straight from a value's `Serialize`, without building a
//! `serde_json::Value` first: the tree of owned keys and strings it made was most of the cost of
//! a hash at ingest. The result is the form of `serde_json::to_value` followed by the rules in
//! the module above, byte for byte (tested against it on field-like visits and states).
//!
//! An object's members are written into a buffer of its own, then sorted by key; a member whose
//! value came out as `null` is left out.

use std::borrow::Cow;

use serde::ser::{self, Impossible, Serialize};

use super::{CanonicalError, nfc, write_float, write_string};

/// Writes `value` in canonical form to `out`, leaving out the top-level members named in `skip`.
pub(super) fn write<T: Serialize + ?Sized>(
    value: &T,
    skip: &'static [&'static str],
    out: &mut String,
) -> Result<(), CanonicalError> {
    value.serialize(Writer { out, skip })
}

impl ser::Error for CanonicalError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        CanonicalError::NotJson(<serde_json::Error as ser::Error>::custom(msg))
    }
}

struct Writer<'o> {
    out: &'o mut String,
    /// Members left out of this value if it is an object.
    skip: &'static [&'static str],
}

impl<'o> Writer<'o> {
    /// Integers in plain decimal.
    fn integer(self, n: impl std::fmt::Display) -> Result<(), CanonicalError> {
        use std::fmt::Write;
        let _ = write!(self.out, "{n}");
        Ok(())
    }

    fn object(self, len: Option<usize>, suffix: &'static str) -> Object<'o> {
        Object {
            out: self.out,
            skip: self.skip,
            suffix,
            values: String::new(),
            members: Vec::with_capacity(len.unwrap_or(8)),
            key: None,
            from_map: false,
        }
    }

    /// `{"variant":` before a variant's content, which is then closed by `}`.
    fn open_variant(&mut self, variant: &str) {
        self.out.push('{');
        write_string(variant, self.out);
        self.out.push(':');
    }
}

impl<'o> ser::Serializer for Writer<'o> {
    type Ok = ();
    type Error = CanonicalError;
    type SerializeSeq = Array<'o>;
    type SerializeTuple = Array<'o>;
    type SerializeTupleStruct = Array<'o>;
    type SerializeTupleVariant = Array<'o>;
    type SerializeMap = Object<'o>;
    type SerializeStruct = Object<'o>;
    type SerializeStructVariant = Object<'o>;

    fn serialize_bool(self, v: bool) -> Result<(), CanonicalError> {
        self.out.push_str(if v { "true" } else { "false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), CanonicalError> {
        self.integer(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<(), CanonicalError> {
        self.integer(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<(), CanonicalError> {
        self.integer(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<(), CanonicalError> {
        self.integer(v)
    }
    fn serialize_i128(self, v: i128) -> Result<(), CanonicalError> {
        // serde_json holds integers in 64 bits and refuses larger ones.
        match (i64::try_from(v), u64::try_from(v)) {
            (Ok(i), _) => self.integer(i),
            (_, Ok(u)) => self.integer(u),
            _ => Err(ser::Error::custom("number out of range")),
        }
    }
    fn serialize_u8(self, v: u8) -> Result<(), CanonicalError> {
        self.integer(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<(), CanonicalError> {
        self.integer(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), CanonicalError> {
        self.integer(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<(), CanonicalError> {
        self.integer(v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), CanonicalError> {
        match u64::try_from(v) {
            Ok(u) => self.integer(u),
            Err(_) => Err(ser::Error::custom("number out of range")),
        }
    }
    fn serialize_f32(self, v: f32) -> Result<(), CanonicalError> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), CanonicalError> {
        write_float(v, self.out);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), CanonicalError> {
        write_string(v.encode_utf8(&mut [0; 4]), self.out);
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), CanonicalError> {
        write_string(v, self.out);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), CanonicalError> {
        // As serde_json: an array of numbers.
        use ser::SerializeSeq;
        let mut array = self.serialize_seq(Some(v.len()))?;
        for byte in v {
            array.serialize_element(byte)?;
        }
        array.end()
    }
    fn serialize_none(self) -> Result<(), CanonicalError> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), CanonicalError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), CanonicalError> {
        self.out.push_str("null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), CanonicalError> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), CanonicalError> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), CanonicalError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), CanonicalError> {
        // An object of one member, which is left out if its value is null.
        let mut object = self.object(Some(1), "");
        object.member(Cow::Borrowed(variant), value)?;
        object.close()
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Array<'o>, CanonicalError> {
        self.out.push('[');
        Ok(Array {
            out: self.out,
            first: true,
            suffix: "]",
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Array<'o>, CanonicalError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Array<'o>, CanonicalError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        mut self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Array<'o>, CanonicalError> {
        self.open_variant(variant);
        self.out.push('[');
        Ok(Array {
            out: self.out,
            first: true,
            suffix: "]}",
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Object<'o>, CanonicalError> {
        let mut object = self.object(len, "");
        object.from_map = true;
        Ok(object)
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Object<'o>, CanonicalError> {
        Ok(self.object(Some(len), ""))
    }
    fn serialize_struct_variant(
        mut self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Object<'o>, CanonicalError> {
        self.open_variant(variant);
        Ok(self.object(Some(len), "}"))
    }
}

struct Array<'o> {
    out: &'o mut String,
    first: bool,
    suffix: &'static str,
}

impl Array<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CanonicalError> {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        value.serialize(Writer {
            out: self.out,
            skip: &[],
        })
    }

    fn close(self) -> Result<(), CanonicalError> {
        self.out.push_str(self.suffix);
        Ok(())
    }
}

macro_rules! array_impl {
    ($($trait:ident :: $method:ident),+) => {$(
        impl ser::$trait for Array<'_> {
            type Ok = ();
            type Error = CanonicalError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CanonicalError> {
                self.element(value)
            }
            fn end(self) -> Result<(), CanonicalError> {
                self.close()
            }
        }
    )+};
}
array_impl!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// An object being written: its members' values in `values`, sorted and written out at the end.
struct Object<'o> {
    out: &'o mut String,
    skip: &'static [&'static str],
    /// Written after the closing brace (a struct variant's own).
    suffix: &'static str,
    values: String,
    members: Vec<Member>,
    /// A map's key, waiting for its value.
    key: Option<String>,
    /// A map may name a key twice; a struct never does.
    from_map: bool,
}

struct Member {
    key: Cow<'static, str>,
    /// Where the value lies in `values`; `None`: it is null.
    value: Option<(usize, usize)>,
}

impl Object<'_> {
    fn member<T: Serialize + ?Sized>(
        &mut self,
        key: Cow<'static, str>,
        value: &T,
    ) -> Result<(), CanonicalError> {
        let start = self.values.len();
        value.serialize(Writer {
            out: &mut self.values,
            skip: &[],
        })?;
        let value = if &self.values[start..] == "null" {
            self.values.truncate(start);
            None
        } else {
            Some((start, self.values.len()))
        };
        self.members.push(Member { key, value });
        Ok(())
    }

    fn close(mut self) -> Result<(), CanonicalError> {
        if self.from_map {
            // The last of a repeated key wins, as in the `serde_json::Map` the form was first
            // taken from.
            self.members.reverse();
            self.members.sort_by(|a, b| a.key.cmp(&b.key));
            self.members.dedup_by(|later, kept| later.key == kept.key);
        }
        let skip = self.skip;
        let mut members: Vec<(Cow<'_, str>, (usize, usize))> = self
            .members
            .iter()
            .filter(|m| !skip.contains(&m.key.as_ref()))
            .filter_map(|m| Some((nfc(&m.key), m.value?)))
            .collect();
        members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        if members.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(CanonicalError::DuplicateKey);
        }
        self.out.push('{');
        for (i, (key, (start, end))) in members.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            write_string(key, self.out);
            self.out.push(':');
            self.out.push_str(&self.values[*start..*end]);
        }
        self.out.push('}');
        self.out.push_str(self.suffix);
        Ok(())
    }
}

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), CanonicalError> {
        self.key = Some(key.serialize(KeyWriter)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CanonicalError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| <CanonicalError as ser::Error>::custom("a map value without its key"))?;
        self.member(Cow::Owned(key), value)
    }
    fn end(self) -> Result<(), CanonicalError> {
        self.close()
    }
}

macro_rules! struct_impl {
    ($($trait:ident),+) => {$(
        impl ser::$trait for Object<'_> {
            type Ok = ();
            type Error = CanonicalError;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), CanonicalError> {
                self.member(Cow::Borrowed(key), value)
            }
            fn end(self) -> Result<(), CanonicalError> {
                self.close()
            }
        }
    )+};
}
struct_impl!(SerializeStruct, SerializeStructVariant);

/// A map key: a string, or what serde_json turns into one (a number, a bool, a unit variant).
struct KeyWriter;

fn not_a_key() -> CanonicalError {
    ser::Error::custom("key must be a string")
}

macro_rules! key_as_text {
    ($($method:ident: $ty:ty),+) => {$(
        fn $method(self, v: $ty) -> Result<String, CanonicalError> {
            Ok(v.to_string())
        }
    )+};
}

impl ser::Serializer for KeyWriter {
    type Ok = String;
    type Error = CanonicalError;
    type SerializeSeq = Impossible<String, CanonicalError>;
    type SerializeTuple = Impossible<String, CanonicalError>;
    type SerializeTupleStruct = Impossible<String, CanonicalError>;
    type SerializeTupleVariant = Impossible<String, CanonicalError>;
    type SerializeMap = Impossible<String, CanonicalError>;
    type SerializeStruct = Impossible<String, CanonicalError>;
    type SerializeStructVariant = Impossible<String, CanonicalError>;

    key_as_text!(
        serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_i128: i128, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_u128: u128, serialize_char: char,
        serialize_str: &str
    );

    fn serialize_f32(self, _v: f32) -> Result<String, CanonicalError> {
        Err(not_a_key())
    }
    fn serialize_f64(self, _v: f64) -> Result<String, CanonicalError> {
        Err(not_a_key())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<String, CanonicalError> {
        Err(not_a_key())
    }
    fn serialize_none(self) -> Result<String, CanonicalError> {
        Err(not_a_key())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _v: &T) -> Result<String, CanonicalError> {
        Err(not_a_key())
    }
    fn serialize_unit(self) -> Result<String, CanonicalError> {
        Err(not_a_key())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<String, CanonicalError> {
        Err(not_a_key())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<String, CanonicalError> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<String, CanonicalError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<String, CanonicalError> {
        Err(not_a_key())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, CanonicalError> {
        Err(not_a_key())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, CanonicalError> {
        Err(not_a_key())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, CanonicalError> {
        Err(not_a_key())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, CanonicalError> {
        Err(not_a_key())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, CanonicalError> {
        Err(not_a_key())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, CanonicalError> {
        Err(not_a_key())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, CanonicalError> {
        Err(not_a_key())
    }
}
