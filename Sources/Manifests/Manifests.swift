// Manifests: placeholder until its work lands.
