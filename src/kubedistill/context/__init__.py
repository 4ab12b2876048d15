"""The domain context model: what a Kubernetes task asks for (task specs) and, later, resource
families, relations and value pools shared by the teachers, L4 and the prompts."""
