// AdmissionControl: placeholder until its work lands.
