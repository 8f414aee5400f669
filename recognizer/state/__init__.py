"""What the app keeps: the store (a directory or S3), the updated models' versions, the drawings people sent."""
