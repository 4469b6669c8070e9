"""Orders validator: a team's consumer on the stream pipeline's consumer kit."""
