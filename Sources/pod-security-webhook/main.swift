print("pod-security-webhook")
