"""LoRA supervised fine-tuning of a base model on the verified corpus."""
