// The screens' logic in plain Kotlin: no Android classes, so the JVM harness runs it as it is.
plugins {
    id("org.jetbrains.kotlin.jvm")
}

kotlin {
    jvmToolchain(17)
    // The uniffi-generated bindings (id.verivali.core), written here by uniffi-bindgen.
    sourceSets["main"].kotlin.srcDir("src/generated/kotlin")
}

dependencies {
    // JNA: the plain jar here and for the harness; the app brings the Android AAR.
    compileOnly("net.java.dev.jna:jna:5.15.0")
}
