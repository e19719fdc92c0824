package main

var latencyBenches []benchDef
