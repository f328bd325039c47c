# Spinal Stack Puppet step 5 on the lab's node trees: the services' final configuration.
# Like a real step 5 it may need a second run: the collector is enabled only once its
# configuration (written in the same run) is in place.
$root = $facts['node_root']
$node = $facts['node_name']
$profile = $facts['node_profile']

file { "${root}/var/lib/puppet-steps":
  ensure => directory,
}
file { "${root}/var/lib/puppet-steps/5":
  content => "step 5 applied on ${node}\n",
}

if $profile == 'controller' {
  exec { 'enable ceilometer-collector':
    command => "/bin/sh -c 'echo enabled > ${root}/var/lib/puppet-steps/ceilometer-collector'",
    onlyif  => "/usr/bin/test -f ${root}/etc/ceilometer/ceilometer.conf.d/collector.conf",
    creates => "${root}/var/lib/puppet-steps/ceilometer-collector",
  }
  file { ["${root}/etc/ceilometer/ceilometer.conf.d"]:
    ensure => directory,
  }
  file { "${root}/etc/ceilometer/ceilometer.conf.d/collector.conf":
    content => "[collector]\nhost = ${node}\n",
    require => Exec['enable ceilometer-collector'],
  }
}
