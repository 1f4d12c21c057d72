package id.verivali.demo

import id.verivali.core.PhoneException

/** A text as every screen shows it: Bahasa Indonesia first, English beside it. */
data class Bilingual(val id: String, val en: String) {
    override fun toString() = when {
        id.isEmpty() && en.isEmpty() -> ""
        id == en -> id
        else -> "$id / $en"
    }
}

/** The stable code of a failed call, for support calls and logs (never a NIK). */
val PhoneException.code: String
    get() = when (this) {
        is PhoneException.Sync -> code
        is PhoneException.Input -> code
        is PhoneException.Storage -> code
    }

/** What the user reads of a failed call. */
val PhoneException.text: Bilingual
    get() = when (this) {
        is PhoneException.Sync -> Bilingual(messageId, messageEn)
        is PhoneException.Input -> Bilingual(messageId, messageEn)
        is PhoneException.Storage -> Bilingual(messageId, messageEn)
    }

/** A JSON string literal for text the user typed (a reason, a comment). */
fun jsonString(text: String): String = buildString {
    append('"')
    for (c in text) {
        when {
            c == '"' -> append("\\\"")
            c == '\\' -> append("\\\\")
            c < ' ' -> append("\\u%04x".format(c.code))
            else -> append(c)
        }
    }
    append('"')
}
