// The Verivali Android demo: `app` (the screens), `shared` (their logic, plain Kotlin over the
// generated bindings) and `harness` (that logic on the desktop JVM, as scripts/test-bindings.sh
// runs it). Build steps: README.md, "The Android demo".
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "verivali-demo"
include(":shared", ":app", ":harness")
