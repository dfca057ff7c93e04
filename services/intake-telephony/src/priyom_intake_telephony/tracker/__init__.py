"""Call assembly: AMI events in, call progress out (:mod:`.assembly`). Pure."""
