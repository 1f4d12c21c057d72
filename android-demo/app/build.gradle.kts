plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "id.verivali.demo.app"
    compileSdk = 35

    defaultConfig {
        applicationId = "id.verivali.demo"
        // Android 7: the cheap phones enumerators carry.
        minSdk = 24
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        ndk {
            // What cargo-ndk builds into src/main/jniLibs (README.md).
            abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64")
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    implementation(project(":shared"))
    implementation("net.java.dev.jna:jna:5.15.0@aar")
    // FileProvider: the camera writes its photo, and the share sheet reads a bundle, through it.
    implementation("androidx.core:core:1.13.1")
    // Google's code scanner: scans the enrollment QR code without the camera permission or a
    // scanner of our own (the Play services module draws the viewfinder).
    implementation("com.google.android.gms:play-services-code-scanner:16.1.0")
}
