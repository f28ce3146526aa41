// KubernetesClient: placeholder until its work lands.
