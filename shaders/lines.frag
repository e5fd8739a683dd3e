#version 330 core
// The lines between paired points (ECG and CMR of one subject): one faint colour, so that
// thousands of them read as a texture and do not hide the points.
uniform vec4 line_colour;
out vec4 fragment;

void main ()
{
  fragment = line_colour;
}
