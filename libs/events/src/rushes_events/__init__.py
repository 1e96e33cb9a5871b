"""JetStream bootstrap, publishing with Nats-Msg-Id and the pull-consumer loop every service uses."""
