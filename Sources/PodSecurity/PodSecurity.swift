// PodSecurity: placeholder until its work lands.
