# Spinal Stack Puppet step 0 on the lab's node trees: the base configuration of every profile.
# Facts from the runner: node_root (the node's tree), node_name, node_profile, puppet_step.
$root = $facts['node_root']
$node = $facts['node_name']
$profile = $facts['node_profile']

file { "${root}/etc/motd":
  content => "${node} (${profile}) is managed by Puppet\n",
}

case $profile {
  'controller', 'compute': {
    file { "${root}/etc/nova/nova.conf":
      content => "[DEFAULT]\nhost = ${node}\nmy_profile = ${profile}\n# managed by Puppet, step 0\n",
    }
  }
  'load-balancer': {
    file { "${root}/etc/haproxy/haproxy.cfg":
      content => "global\n  daemon\n  maxconn 4096\n# managed by Puppet on ${node}, step 0\n",
    }
  }
  default: {}
}
